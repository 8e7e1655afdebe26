wrk.method = "POST"
wrk.body = '{"email":"load@bench.io","password":"load-bench-pass"}'
wrk.headers["Content-Type"] = "application/json"
