"""Developer tools: the demo community (``flask seed-demo``, ``./run.sh``'s first start). Top layer: may import everything."""
