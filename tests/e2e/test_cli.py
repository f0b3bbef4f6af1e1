"""The OVMS-compatible command line."""
from conftest import run_tessera


def test_help_lists_flags():
    result = run_tessera(["--help"])
    assert result.returncode == 0
    for flag in ["--port", "--rest_port", "--config_path", "--model_name", "--model_path",
                 "--file_system_poll_wait_seconds", "--log_level", "--nireq"]:
        assert flag in result.stdout


def test_version():
    result = run_tessera(["--version"])
    assert result.returncode == 0
    assert "0.1.0" in result.stdout


def test_unknown_flag_is_one_clear_line():
    result = run_tessera(["--bogus_flag", "1"])
    assert result.returncode != 0
    assert "bogus_flag" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_config_and_model_path_are_exclusive(tmp_path):
    result = run_tessera(["--config_path", str(tmp_path), "--model_name", "m",
                          "--model_path", str(tmp_path)])
    assert result.returncode != 0
    assert "Use either config_path or model_path with model_name" in result.stderr


def test_bad_values_name_the_flag():
    for args, needle in [(["--model_name", "m", "--model_path", "/x", "--port", "70000"], "port"),
                         (["--model_name", "m", "--model_path", "/x", "--log_level", "LOUD"],
                          "log_level"),
                         (["--model_name", "m"], "model_path"),
                         (["--model_name", "m", "--model_path", "/x", "--port", "0"], "port")]:
        result = run_tessera(args)
        assert result.returncode != 0, args
        assert needle in result.stderr, (args, result.stderr)
