"""The dg defs folder: one ``<use_case>/defs.yaml`` (a ``UseCaseComponent``) per use-case YAML.

Add one with ``mlops-assets init <name>`` or
``dg scaffold defs mlops_assets.components.UseCaseComponent <name>``.
"""
