-- wrk: POST an empty JSON object to the path given on the command line.
wrk.method = "POST"
wrk.body = "{}"
wrk.headers["Content-Type"] = "application/json"
