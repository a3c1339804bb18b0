"""jamsos: city-funded BPJS Ketenagakerjaan enrolment rosters, validated and batched."""

__version__ = "0.1.0"
