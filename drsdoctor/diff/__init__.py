"""diff-stacks: template loading (short-form tags), normalisation, per-type differs and renderers.

Entry points: `sources.load_sources` (what each argument names), `engine.diff_sources` (the diff),
`render` / `sarif` (the outputs). `drsdoctor permissions` reads READ_ACTIONS below.
"""

# every call diff-stacks makes against a deployed stack (all read-only)
READ_ACTIONS = (
    "cloudformation:DescribeStacks",
    "cloudformation:GetTemplate",
    "cloudformation:ListStackResources",
    "lambda:GetFunctionConfiguration",
    "lambda:GetFunctionConcurrency",
    "lambda:GetPolicy",
    "states:DescribeStateMachine",
    "iam:GetRole",
    "iam:ListRolePolicies",
    "iam:GetRolePolicy",
    "iam:ListAttachedRolePolicies",
    "events:DescribeRule",
    "events:ListTargetsByRule",
    "dynamodb:DescribeTable",
    "dynamodb:DescribeTimeToLive",
)
