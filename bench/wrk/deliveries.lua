-- wrk script for the deliveries baseline: POST requests shaped like what a
-- delivery endpoint receives from streamb (a ~280-byte JSON body and the
-- three Standard Webhooks headers), built once, sent as wrk's static request.
--
--   wrk -t2 -c8 -d5s -s bench/wrk/deliveries.lua http://127.0.0.1:PORT/hook
wrk.method = "POST"
wrk.body = '{"kind":"event","event":{"id":"bench-0-12345","type":"system_optimization",'
  .. '"priority":"normal","source":"bench","createdAt":1795766822519,"target":"",'
  .. '"payload":{"service":"maps","action":"lower_sustained_limit","to":900}}}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["User-Agent"] = "streamb"
wrk.headers["webhook-id"] = "bench-0-12345"
wrk.headers["webhook-timestamp"] = "1796612345"
wrk.headers["webhook-signature"] = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
