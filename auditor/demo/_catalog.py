"""Static design of the demo project: label sets, priors, labeling functions, people, texts.

Pure data, no computation: `generate.py` turns it into a workspace. The numbers here are the
*design* (what the generator aims at); tests compare the generated data against them.
"""

from __future__ import annotations

from dataclasses import dataclass

TASK = "support_tickets"

TOPIC = "topic"
TOPIC_LABELS: tuple[str, ...] = ("billing", "technical", "account", "shipping", "other")
# Class prior of the true topic before the prior shift (imbalanced on purpose).
TOPIC_PRIOR: tuple[float, ...] = (0.35, 0.25, 0.20, 0.12, 0.08)
SHIFTED_CLASS = "shipping"
SHIFT_FACTOR = 2.5  # the shifted class's share is multiplied by this from the shift day on


@dataclass(frozen=True)
class Stage2:
    """A stage-2 subtask: it refines one label of `topic` and exists only under it."""

    name: str
    parent_label: str
    labels: tuple[str, ...]
    prior: tuple[float, ...]
    description: str


STAGE2: tuple[Stage2, ...] = (
    Stage2(
        "billing_issue",
        "billing",
        ("refund", "double_charge", "invoice"),
        (0.45, 0.20, 0.35),
        "Kind of billing problem; only for tickets whose topic is billing.",
    ),
    Stage2(
        "technical_issue",
        "technical",
        ("bug", "outage", "how_to"),
        (0.45, 0.15, 0.40),
        "Kind of technical problem; only for tickets whose topic is technical.",
    ),
)

TASK_DEFINITION: dict[str, object] = {
    "name": TASK,
    "description": "Route incoming customer support tickets: first by topic, then billing and "
    "technical tickets by the kind of issue.",
    "subtasks": [
        {
            "name": TOPIC,
            "labels": list(TOPIC_LABELS),
            "manual_cost_per_label": "0.40",
            "description": "Main topic of the ticket.",
        },
        *(
            {
                "name": s.name,
                "parent": TOPIC,
                "parent_label": s.parent_label,
                "labels": list(s.labels),
                "manual_cost_per_label": "0.60",
                "description": s.description,
            }
            for s in STAGE2
        ),
    ],
}


@dataclass(frozen=True)
class LFSpec:
    """Design of one labeling function.

    `coverage` is the share of in-scope items it fires on and `accuracy` the share of its votes
    that match the truth, both under the pre-shift prior. `polarity` lists the labels it can
    emit. Out-of-polarity fires land on `out_class` only when set (a systematic confusion).
    A `copy_of` LF repeats that LF's vote on `copy_rate` of its fires and otherwise fires on its
    own with the remaining coverage.
    """

    name: str
    subtask: str
    kind: str
    polarity: tuple[str, ...]
    coverage: float
    accuracy: float
    description: str
    owner: str
    confidence: bool = False
    version: str = "1"
    out_class: str | None = None
    copy_of: str | None = None
    copy_rate: float = 0.0


ALL_TOPICS = TOPIC_LABELS
COLLAPSED_LF = "email_subject_tag"
BAD_LF = "kw_login_as_account"
CORRELATED_PAIR = ("regex_payment_terms", "kw_payment_terms_copy")

# fmt: off
LF_SPECS: tuple[LFSpec, ...] = (
    LFSpec("kw_refund", TOPIC, "heuristic", ("billing",), 0.18, 0.90,
           "Mentions refund, money back or chargeback.", "priya"),
    LFSpec("regex_payment_terms", TOPIC, "pattern", ("billing",), 0.12, 0.92,
           "Regex over card, payment and invoice terms.", "priya", version="2"),
    LFSpec("kw_payment_terms_copy", TOPIC, "heuristic", ("billing",), 0.12, 0.92,
           "Near-duplicate of regex_payment_terms kept by the billing team.", "tom",
           copy_of="regex_payment_terms", copy_rate=0.9),
    LFSpec("kw_error", TOPIC, "heuristic", ("technical",), 0.15, 0.85,
           "Mentions error, exception or failed.", "tom"),
    LFSpec("kw_crash", TOPIC, "heuristic", ("technical",), 0.06, 0.93,
           "Mentions crash or freeze.", "tom"),
    LFSpec("kw_not_working", TOPIC, "heuristic", ("technical",), 0.20, 0.55,
           "Mentions 'not working' (often about other things too).", "tom"),
    LFSpec("kw_password", TOPIC, "heuristic", ("account",), 0.10, 0.88,
           "Mentions password, 2FA or sign-in reset.", "priya"),
    LFSpec(BAD_LF, TOPIC, "heuristic", ("account",), 0.10, 0.10,
           "Votes account on 'login'; most such tickets are technical bugs.", "tom",
           out_class="technical"),
    LFSpec("kw_tracking", TOPIC, "heuristic", ("shipping",), 0.08, 0.90,
           "Mentions tracking number, parcel or courier.", "priya"),
    LFSpec("kw_delivery_address", TOPIC, "heuristic", ("shipping",), 0.05, 0.72,
           "Mentions delivery address (confused with account address changes).", "priya",
           out_class="account"),
    LFSpec("kw_feedback", TOPIC, "heuristic", ("other",), 0.03, 0.60,
           "Mentions feedback, suggestion or partnership.", "tom"),
    LFSpec(COLLAPSED_LF, TOPIC, "pattern", ("billing", "technical", "account"), 0.35, 0.85,
           "Reads the [Billing]/[Tech]/[Account] tag of the web form's e-mail subject.", "tom",
           version="3"),
    LFSpec("crm_open_order", TOPIC, "distant", ("shipping", "billing"), 0.25, 0.70,
           "CRM: customer has an open order (shipping) or unpaid invoice (billing).", "priya",
           confidence=True),
    LFSpec("kb_article_match", TOPIC, "distant", ("technical", "account", "other"), 0.15, 0.70,
           "Closest help-center article's category.", "priya", confidence=True),
    LFSpec("topic_model_v3", TOPIC, "model", ALL_TOPICS, 0.50, 0.82,
           "Fine-tuned classifier; abstains below 0.5 confidence.", "ml_team", confidence=True,
           version="3"),
    LFSpec("kw_refund_request", "billing_issue", "heuristic", ("refund",), 0.35, 0.90,
           "Mentions refund or money back.", "priya"),
    LFSpec("kw_duplicate_payment", "billing_issue", "heuristic", ("double_charge",), 0.15, 0.85,
           "Mentions charged twice or duplicate payment.", "priya"),
    LFSpec("billing_issue_model", "billing_issue", "model",
           ("refund", "double_charge", "invoice"), 0.60, 0.80, "Classifier over billing tickets.",
           "ml_team", confidence=True, version="2"),
    LFSpec("kw_stacktrace", "technical_issue", "pattern", ("bug",), 0.30, 0.85,
           "Ticket contains a stack trace or error code.", "tom"),
    LFSpec("status_page_outage", "technical_issue", "distant", ("outage",), 0.12, 0.80,
           "Status page reported an incident within the hour.", "tom", confidence=True),
    LFSpec("kw_how_do_i", "technical_issue", "pattern", ("how_to",), 0.30, 0.88,
           "Starts with 'how do I' / 'where is'.", "tom"),
)
# fmt: on

# Share of a stage-2 LF's coverage that it fires, mistakenly, on items of other topics.
STAGE2_MISFIRE = 0.015


@dataclass(frozen=True)
class Annotator:
    name: str
    error_rate: float  # chance a gold label is wrong
    median_seconds: float  # per topic label; stage-2 labels take 1.4x
    hourly_rate: float  # USD
    weight: float  # share of the gold queue


ANNOTATORS: tuple[Annotator, ...] = (
    Annotator("ana", 0.03, 45.0, 28.0, 0.30),
    Annotator("ben", 0.08, 38.0, 22.0, 0.25),
    Annotator("chloe", 0.05, 60.0, 32.0, 0.20),
    Annotator("dmitri", 0.12, 30.0, 20.0, 0.15),
    Annotator("emma", 0.02, 70.0, 38.0, 0.10),
)
DEVELOPERS: tuple[tuple[str, float], ...] = (("priya", 55.0), ("tom", 48.0))  # (name, USD/h)
REVIEWER: tuple[str, float] = ("sam", 45.0)

CHANNELS: tuple[str, ...] = ("email", "chat", "phone")
# P(channel | topic), rows in TOPIC_LABELS order.
CHANNEL_BY_TOPIC: tuple[tuple[float, ...], ...] = (
    (0.60, 0.30, 0.10),
    (0.30, 0.50, 0.20),
    (0.40, 0.40, 0.20),
    (0.50, 0.30, 0.20),
    (0.70, 0.20, 0.10),
)
TIERS: tuple[str, ...] = ("free", "pro", "enterprise")
TIER_PRIOR: tuple[float, ...] = (0.60, 0.30, 0.10)
# Relative ticket volume Monday..Sunday.
WEEKDAY_WEIGHT: tuple[float, ...] = (1.25, 1.15, 1.1, 1.05, 1.0, 0.45, 0.35)

OPENERS: tuple[str, ...] = ("", "hi, ", "hello, ", "urgent: ", "re: ", "help: ")
SUFFIXES: tuple[str, ...] = ("", " please help", " since yesterday", " again", " asap")
# Phrases per leaf class (stage-2 labels for billing/technical, the topic otherwise); each
# leaf has the same number of phrases so they stack into one array.
PHRASES: dict[str, tuple[str, ...]] = {
    "refund": (
        "refund for cancelled order",
        "want my money back",
        "refund not received yet",
        "refund to my card",
    ),
    "double_charge": (
        "charged twice this month",
        "double charge on invoice",
        "duplicate payment on card",
        "billed two times",
    ),
    "invoice": (
        "need a copy of my invoice",
        "wrong vat on invoice",
        "invoice address is wrong",
        "missing invoice for march",
    ),
    "bug": (
        "app crashes on login",
        "error when saving settings",
        "export button does nothing",
        "sync fails with error 500",
    ),
    "outage": (
        "site is down",
        "service unavailable for everyone",
        "cannot connect at all",
        "dashboard not loading anywhere",
    ),
    "how_to": (
        "how do i export my data",
        "how to add a team member",
        "where is the sync option",
        "how do i change the language",
    ),
    "account": (
        "reset my password",
        "change my account email",
        "delete my account",
        "locked out after 2fa",
    ),
    "shipping": (
        "package has not arrived",
        "tracking number not working",
        "wrong delivery address",
        "order delayed by courier",
    ),
    "other": (
        "feedback on the new design",
        "partnership inquiry",
        "question about careers",
        "thanks for the quick help",
    ),
}
