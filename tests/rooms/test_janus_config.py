"""Our Janus configuration (rooms/media/janus_config.py): which interfaces and address
families it offers browsers."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from rooms.media.janus_config import janus_config_write


def _general(folder) -> str:
    return (folder / "janus.jcfg").read_text()


def _write(folder):
    return janus_config_write(folder, url="unix:/tmp/janus.sock", api_secret="s", admin_key="k")


def test_a_janus_of_its_own_skips_virtual_interfaces_and_ipv6(tmp_path, settings):
    settings.JANUS_ICE_ENFORCE_LIST = ""
    text = _general(_write(tmp_path))
    assert 'ice_ignore_list = "docker,br-,veth,virbr,vmnet,tun,tap"' in text
    assert "ice_enforce_list" not in text
    assert "ipv6 = false" in text


def test_an_enforce_list_names_the_interfaces_offered(tmp_path, settings):
    settings.JANUS_ICE_ENFORCE_LIST = "eth0"
    settings.JANUS_IPV6 = True
    text = _general(_write(tmp_path))
    assert 'ice_enforce_list = "eth0"' in text
    assert "ice_ignore_list" not in text
    assert "ipv6 = true" in text


def test_settings_cannot_break_out_of_their_quotes(tmp_path, settings):
    settings.JANUS_ICE_IGNORE_LIST = 'docker"\nadmin_secret = "x'
    with pytest.raises(ImproperlyConfigured):
        _write(tmp_path)
