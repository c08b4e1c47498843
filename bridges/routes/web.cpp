// GET / and GET /ui/{file}: the web dashboard (bridges/web/, embedded at
// build time). The files are the same for everyone and hold no data, so
// they are open; the page asks for a key before it reads the node.

#include "bridges/json_response.hpp"
#include "bridges/routes/routes.hpp"
#include "bridges/web_assets.hpp"

#include <cstring>

namespace streamb {

namespace {

const web_asset* find_asset(const std::string& url) {
  for (auto& a : web_assets())
    if (url == a.url)
      return &a;
  return nullptr;
}

void serve(const http_request& req, http_response& res) {
  auto asset = find_asset(req.path);
  if (asset == nullptr)
    return reply_error(res, 404, "not_found", "no file " + req.path);
  // Same-origin only: no inline script or style, nothing from elsewhere.
  res.set_header("Content-Security-Policy",
                 "default-src 'none'; script-src 'self'; style-src 'self'; "
                 "connect-src 'self'; img-src 'self' data:; "
                 "frame-ancestors 'none'; base-uri 'none'; form-action 'none'");
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_header("Referrer-Policy", "no-referrer");
  // Revalidated every time: a node upgraded in place serves its new page.
  res.set_header("Cache-Control", "no-cache");
  res.set_header("ETag", asset->etag);
  if (req.get_header_value("If-None-Match") == asset->etag) {
    res.status = 304;
    return;
  }
  res.status = 200;
  res.set_content(std::string{reinterpret_cast<const char*>(asset->data),
                              asset->size},
                  asset->content_type);
}

} // namespace

void add_web_routes(router& r) {
  r.get("/", serve, route_thread::io);
  r.get("/ui/{file}", serve, route_thread::io);
}

} // namespace streamb
