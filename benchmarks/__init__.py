"""Speed and memory measurements of pinnlang against hand-written JAX and peers."""
