"""Read and prepare: from a case file to an :class:`EncodedTable`.

The first stage of the pipeline reads a CSV or TSV file (or a DataFrame),
decides which cells are absent, bins declared numeric columns into public
intervals, takes declared value lists as public categories and encodes every
value as a category code::

    options = ReadOptions(null_tokens=("N",), bins=(BinSpec.parse("AGEP=0..100/10"),))
    table = load_table("cases.csv", options)

Everything in the resulting table, its category labels included, is sensitive
until a protected mechanism releases it.
"""

from synthcase.prepare.binning import BinSpec
from synthcase.prepare.encoding import encode, load_table, to_frame
from synthcase.prepare.options import ReadOptions
from synthcase.prepare.reading import read_frame
from synthcase.prepare.table import ABSENT, EncodedTable
from synthcase.prepare.values import ValueList

__all__ = [
    "ABSENT",
    "BinSpec",
    "EncodedTable",
    "ReadOptions",
    "ValueList",
    "encode",
    "load_table",
    "read_frame",
    "to_frame",
]
