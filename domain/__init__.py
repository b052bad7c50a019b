"""The domain: tables, services, plain exceptions and the database session.

It imports only `policy` (pure rules) and third-party libraries, so the action
server and the gateway share it without FastAPI; HTTP lives in `api/`.
"""
