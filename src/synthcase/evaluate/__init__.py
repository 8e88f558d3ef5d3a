"""Evaluate: the steward's comparison of a release with the sensitive data.

:func:`evaluate_release` compares the protected aggregates and the synthetic
records with the sensitive records they came from; :func:`write_evaluation`
writes the result as the steward's report (``report.html``) with its raw
figures (``evaluation.json`` and one CSV file per table).

Everything this stage produces is computed from the sensitive records and is
not protected by the release's guarantee: it stays with the steward, in the
release's ``evaluation/`` folder, and is never shared.
:func:`evaluate_linked_release` and :func:`write_linked_evaluation` do the
same for a linked release (one row per link, the subject as the privacy
unit). :func:`k_marginal_score` and :func:`three_way_score` are NIST's
utility scores on tables of labels.
"""

from synthcase.evaluate.distances import KindDistance, MarginalDistance
from synthcase.evaluate.evaluation import Evaluation, evaluate_release
from synthcase.evaluate.fidelity import BucketFidelity, Fidelity, LengthFidelity
from synthcase.evaluate.kmarginal import k_marginal_score, three_way_score
from synthcase.evaluate.linked import LinkedEvaluation, evaluate_linked_release
from synthcase.evaluate.linked_report import write_linked_evaluation
from synthcase.evaluate.links import LinkBin, LinksPerSubject
from synthcase.evaluate.records import RecordComparison
from synthcase.evaluate.report import write_evaluation
from synthcase.evaluate.risk import LengthLeakage, LengthRisk, Linkable, SensitiveRisk
from synthcase.evaluate.shared import SharedTables, encode_shared

__all__ = [
    "BucketFidelity",
    "Evaluation",
    "Fidelity",
    "KindDistance",
    "LengthFidelity",
    "LengthLeakage",
    "LengthRisk",
    "LinkBin",
    "Linkable",
    "LinkedEvaluation",
    "LinksPerSubject",
    "MarginalDistance",
    "RecordComparison",
    "SensitiveRisk",
    "SharedTables",
    "encode_shared",
    "evaluate_linked_release",
    "evaluate_release",
    "k_marginal_score",
    "three_way_score",
    "write_evaluation",
    "write_linked_evaluation",
]
