"""Subtask-boundary rules: definitions (parsed, validated TOML) and checks (pure numpy).

See auditor.rules.definitions for the rules file format and auditor.rules.checks for what
each rule flags and how the improbable (feasible joint mass) check is computed.
"""

from auditor.rules.checks import CheckInputs, CheckResult, RuleCount, Violations, check
from auditor.rules.definitions import RulesError, RuleSet, implicit_rules, load_rules, parse_rules
from auditor.rules.shape import LFShape, SubtaskShape, TaskShape

__all__ = [
    "CheckInputs",
    "CheckResult",
    "LFShape",
    "RuleCount",
    "RuleSet",
    "RulesError",
    "SubtaskShape",
    "TaskShape",
    "Violations",
    "check",
    "implicit_rules",
    "load_rules",
    "parse_rules",
]
