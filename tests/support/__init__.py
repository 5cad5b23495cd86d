"""Test-only support code (fake exchange, helpers). Never imported by src/."""
