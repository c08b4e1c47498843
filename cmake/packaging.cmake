# `cmake --install` and the .deb (CPack): the binaries, the default config as
# /etc/streamb/streamb.json (a conffile), the systemd unit, the dashboard's
# files and the client libraries. The node serves its dashboard from the copy
# built into the binary; /usr/share/streamb holds the files for reverse
# proxies, browser agents served elsewhere and the Python/JavaScript clients.

include(GNUInstallDirs)

install(TARGETS streamb streamb-agent RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES config/streamb.json DESTINATION /etc/streamb)
install(FILES packaging/streamb.service DESTINATION /lib/systemd/system)
install(FILES bridges/web/index.html bridges/web/app.js bridges/web/style.css
        DESTINATION ${CMAKE_INSTALL_DATADIR}/streamb/web)
install(FILES clients/js/streamb-agent.mjs clients/js/cli.mjs
              clients/js/README.md clients/js/package.json
        DESTINATION ${CMAKE_INSTALL_DATADIR}/streamb/clients/js)
install(DIRECTORY clients/python/streamb_agent
        DESTINATION ${CMAKE_INSTALL_DATADIR}/streamb/clients/python
        PATTERN "__pycache__" EXCLUDE)
install(FILES README.md config/README.md docs/operations.md docs/security.md
              docs/http-api.md docs/agent-protocol.md docs/deliveries.md
        DESTINATION ${CMAKE_INSTALL_DOCDIR})

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME streamb)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "streamb maintainers <streamb@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "actor-model coordination runtime for SaaS API monitoring, budgets, webhooks and agents")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
# Debian 12's runtime packages of what the binaries link (ldd build/streamb).
set(CPACK_DEBIAN_PACKAGE_DEPENDS
    "libc6, libstdc++6, libgcc-s1, libcaf-core0.17, libcaf-io0.17, libcaf-openssl0.17, libboost-json1.81.0, libhiredis0.14, libssl3, libdate-tz3, libjemalloc2, libsystemd0, tzdata")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "redis-server")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${CMAKE_CURRENT_SOURCE_DIR}/packaging/conffiles)
# gzip: a package built in a test in seconds, not xz's minutes on 2 cores.
set(CPACK_DEBIAN_COMPRESSION_TYPE gzip)
# The build keeps its debug info; the package does not need it.
set(CPACK_STRIP_FILES ON)
include(CPack)
