"""Live coaching: the wire protocol, one connection's coaching state, its steps and completion checks,
and the capacity counts. No web framework here: ``facecoach.web.live`` is the page and the socket."""
