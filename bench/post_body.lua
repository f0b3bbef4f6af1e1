-- wrk script of bench/run_all.py: POSTs one fixed body read from a file.
-- Environment: BENCH_BODY (file), BENCH_CONTENT_TYPE, and optionally
-- BENCH_HEADER_LENGTH (the Inference-Header-Content-Length value of a
-- KServe binary-data request).
local f = assert(io.open(os.getenv("BENCH_BODY"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = os.getenv("BENCH_CONTENT_TYPE")
local header_length = os.getenv("BENCH_HEADER_LENGTH")
if header_length and header_length ~= "" then
  wrk.headers["Inference-Header-Content-Length"] = header_length
end

-- Failed replies show in wrk's "Non-2xx or 3xx responses" line (no response()
-- callback: it would make wrk parse every reply in Lua).
