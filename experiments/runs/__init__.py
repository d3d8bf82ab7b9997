"""One run: its spec, the run and its evaluator, the run folder (the only code that names its files and reads
a run's status), and provenance (versions, machine)."""

from experiments.runs.folder import RunFolder, RunFolderError
from experiments.runs.run import Run, RunResult
from experiments.runs.spec import RunSpec

__all__ = ["Run", "RunFolder", "RunFolderError", "RunResult", "RunSpec"]
