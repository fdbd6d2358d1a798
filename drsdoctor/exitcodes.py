"""Exit codes shared by every command that inspects (DESIGN.md, "Exit codes")."""

OK = 0  # healthy, allowed or identical
PROBLEMS = 1  # problems, denials or differences found
USAGE = 2  # bad input or usage: one line on stderr, never a traceback
INCOMPLETE = 3  # could not complete: no credentials, unreachable endpoint, missing execution
