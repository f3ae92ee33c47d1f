"""Bronze, silver (+ quarantine) and gold assets generated from each dataset's YAML."""
