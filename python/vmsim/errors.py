"""The exceptions vmsim raises. Messages are the CLI's one-line messages (without ``vmsim: ``)."""


class VmsimError(Exception):
    """Every error vmsim raises."""


class UsageError(VmsimError, ValueError):
    """Arguments that cannot be: an unknown preset, policy or format, a bad size (the CLI's exit code 2)."""


class TraceError(VmsimError):
    """A trace that cannot be read: a missing file, a bad record, an address the machine cannot take."""


class ConfigError(VmsimError):
    """A machine description that is not a machine."""


class SimulationError(VmsimError):
    """The simulated machine could not go on (the kernel gave up, a fault stayed unresolved)."""


class PolicyError(VmsimError):
    """A policy written in Python broke its contract (say, evicted a page that is not resident)."""


class SweepError(VmsimError):
    """A sweep specification that cannot be run."""
