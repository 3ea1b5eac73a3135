# Type stub of the Python module `repbench` (python/module.cpp); docstrings: help(repbench.X).
import os
from types import ModuleType
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union, overload

import numpy as np
import numpy.typing as npt

__version__: str

PathLike = Union[str, "os.PathLike[str]"]
Descriptors = Union[npt.ArrayLike, PathLike]

class Error(ValueError):
    """Bad input: the one-line message `repbench` prints after 'repbench: error: '."""

class Result:
    """One protocol's evaluation, as `repbench eval` computes it."""
    @property
    def set(self) -> str: ...
    @property
    def protocol(self) -> str: ...
    @property
    def model(self) -> str: ...
    @property
    def map(self) -> float: ...
    @property
    def map_ci95(self) -> Optional[Tuple[float, float]]: ...
    @property
    def mp_at_k(self) -> Dict[int, float]: ...
    @property
    def metrics(self) -> Dict[str, Any]: ...
    @property
    def options(self) -> Dict[str, Any]: ...
    @property
    def per_query(self) -> Dict[str, Any]:
        """"ap": float64 [nq] (NaN = left out), "precision_at_k", "ks", "recall_at_k",
        "recall_ks", "reciprocal_rank", "top_ids": int64 [nq, k], "images"."""
    @property
    def micro_ap(self) -> Optional[float]: ...
    @property
    def micro_ap_sn(self) -> Optional[float]: ...
    @property
    def recall_at_p90(self) -> Optional[float]: ...
    def write(self, path: PathLike) -> None:
        """Writes the record `repbench eval --out PATH` writes."""

class Leaderboard:
    """A rendered leaderboard; str() is the table."""
    text: str
    format: str
    checked: bool
    passed: bool
    check_report: str
    notes: List[str]
    cd_diagram_note: str

@overload
def evaluate(queries: Descriptors, database: Optional[Descriptors] = ..., *, set: str,
             gnd: Optional[PathLike] = ..., root: Optional[PathLike] = ...,
             protocol: None = ..., model: Optional[str] = ..., category: str = ...,
             ap: Optional[str] = ..., similarity: str = ..., l2_normalize: bool = ...,
             no_query_crop: bool = ..., postprocess: Optional[str] = ...,
             postprocess_train: Optional[PathLike] = ...,
             postprocess_cache: Optional[PathLike] = ..., rerank: Optional[str] = ...,
             bootstrap: int = ..., seed: int = ..., threads: int = ..., candidates: str = ...,
             candidates_k: int = ..., max_results: int = ...,
             score_norm_train: Optional[PathLike] = ..., score_norm: Optional[str] = ...
             ) -> Result: ...
@overload
def evaluate(queries: Descriptors, database: Optional[Descriptors] = ..., *, set: str,
             gnd: Optional[PathLike] = ..., root: Optional[PathLike] = ...,
             protocol: str = ..., model: Optional[str] = ..., category: str = ...,
             ap: Optional[str] = ..., similarity: str = ..., l2_normalize: bool = ...,
             no_query_crop: bool = ..., postprocess: Optional[str] = ...,
             postprocess_train: Optional[PathLike] = ...,
             postprocess_cache: Optional[PathLike] = ..., rerank: Optional[str] = ...,
             bootstrap: int = ..., seed: int = ..., threads: int = ..., candidates: str = ...,
             candidates_k: int = ..., max_results: int = ...,
             score_norm_train: Optional[PathLike] = ..., score_norm: Optional[str] = ...
             ) -> Union[Result, List[Result]]: ...

def search(queries: Descriptors, database: Descriptors, k: int = ..., *,
           similarity: str = ..., l2_normalize: bool = ..., postprocess: Optional[str] = ...,
           postprocess_train: Optional[PathLike] = ...,
           postprocess_cache: Optional[PathLike] = ..., threads: int = ...,
           precision: str = ...
           ) -> Tuple["np.ndarray[Any, np.dtype[np.int64]]", "np.ndarray[Any, np.dtype[np.float32]]"]: ...

def compare(a: PathLike, b: PathLike, *, resamples: int = ..., permutations: int = ...,
            seed: int = ..., threads: int = ...) -> Dict[str, Any]: ...

def leaderboard(records: Union[PathLike, Sequence[PathLike], None] = ..., *,
                scores: Optional[PathLike] = ..., format: str = ...,
                out: Optional[PathLike] = ..., check: Optional[PathLike] = ...,
                tolerance: Optional[float] = ..., significant_only: bool = ...,
                within_interval: bool = ..., allow_improved: bool = ..., alpha: float = ...,
                permutations: int = ..., seed: int = ..., reference: Optional[PathLike] = ...,
                reference_synthetic: bool = ..., rank_resamples: int = ...,
                cd_diagram: Optional[PathLike] = ...) -> Leaderboard: ...

class _Datasets(ModuleType):
    def list(self) -> List[Dict[str, Any]]: ...
    def info(self, set: str, *, root: Optional[PathLike] = ..., gnd: Optional[PathLike] = ...,
             protocol: Optional[str] = ...) -> Dict[str, Any]: ...
    def protocols(self, set: str) -> List[str]: ...

datasets: _Datasets
