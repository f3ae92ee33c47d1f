"""Model lifecycle assets: training, evaluation and promotion, deployment, batch inference."""
