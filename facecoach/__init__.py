"""facecoach — a facial-fitness coach.

Data flows one way: frames → landmarks (``vision``) → measures → evaluators → feedback (``coaching``);
assessments → plans (``planning``). The knowledge base (``knowledge``) is data validated on load;
``members`` and ``web`` put a membership site around it; ``cli`` is a thin layer over the same library.
"""

__version__ = "0.1.0"
