"""IAM policies offline: parse, evaluate as AWS does, load a role, simulate a role's DRS needs.

policy.py (documents -> statements), conditions.py and matching.py (operators, wildcards, ARNs,
variables), evaluate.py (the decision), principal.py and intrinsics.py (a role from IAM or from a
template), simulator.py (SimulatePrincipalPolicy when it answers, else local), drs_needs.py (what
each orchestrator role needs, with sources), actions.py (every action of a service, for wildcards).
"""

# The read-only calls `load_role` makes (`drsdoctor permissions` collects these). `simulate` also tries
# iam:SimulatePrincipalPolicy, optional (without it the local evaluator answers): the Snapshot's
# role_decisions fact declares it so, and `permissions --include-optional` grants it.
READ_ACTIONS = (
    "iam:GetRole", "iam:ListRolePolicies", "iam:GetRolePolicy", "iam:ListAttachedRolePolicies",
    "iam:GetPolicy", "iam:GetPolicyVersion",
)
