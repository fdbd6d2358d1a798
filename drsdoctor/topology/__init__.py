"""What this orchestrator is, learnt from its deployment: parts, edges and evidence (model), the
definition's Task targets (definition), environment values (values), the design (design), the operator's
orchestrator map (orchestrator_map)."""
