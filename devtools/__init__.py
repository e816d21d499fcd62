"""Developer tools: the demo community (``./run.sh``'s first start), synthetic communities at scale
and ``flask seed-demo``, and ``flask evaluate-ranking``. Top layer: may import everything; nothing imports it but app.py."""
