"""Asset factories: each stage's assets are generated from the use-case configuration."""
