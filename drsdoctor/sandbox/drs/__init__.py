"""The DRS simulator: AWS Elastic Disaster Recovery's wire protocol over a model on an injected clock.

    model = DrsModel(region="us-east-1", account_id="123456789012", now=clock.now)   # model.py
    server = model.add_source_server("db01", replication="CONTINUOUS", tags={"wave": "1"})
    model.set_outcome(server.source_server_id, "FAILED", reason="InsufficientInstanceCapacity")
    app = DrsWireApp(model, identify=..., authorize=..., throttle=...)                  # wire.py (WSGI)
    is_drs_request(environ)   # dispatch one port between moto and DRS by the SigV4 credential scope

model.py (state and rules) and lifecycle.py (a job's timeline) know nothing of HTTP; wire.py, validate.py
and serialize.py know nothing of lifecycles. follow_on.py lists what DRS does with the caller's
credentials, from drsdoctor/iam/drs_needs.yaml. Heavy imports (botocore, werkzeug) live in wire.py only.
"""
