"""``Identity(n)``: the identity measurement matrix, as a sparse matrix."""

from scipy import sparse


def Identity(n: int) -> sparse.csr_matrix:
    """The ``n x n`` identity, which private-pgm's estimator accepts as ``Q``."""
    return sparse.eye(n, format="csr")
