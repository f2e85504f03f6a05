"""Video audits as background jobs: the in-process runner, the Redis queue and ``facecoach worker``, and
the audit work they run. Used by the web app (submit, poll) and by the worker process alike."""
