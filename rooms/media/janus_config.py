"""Our own Janus configuration, never Debian's shipped one.

Debian's files start Janus on every interface with no API secret, a well-known admin secret
and demo rooms with known passwords. Ours: the API only on a Unix socket or a private address
from JANUS_URL, an API secret, plugin admin keys that also lock RTP forwarding, only the two
plugins and the one transport we use, no static rooms, one event loop per core, and the ICE
port range and interface list from settings.
"""

import os
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

PLUGINS_USED = {"libjanus_audiobridge.so", "libjanus_streaming.so"}
PLUGINS_SHIPPED = [
    "libjanus_duktape.so",
    "libjanus_echotest.so",
    "libjanus_lua.so",
    "libjanus_nosip.so",
    "libjanus_recordplay.so",
    "libjanus_sip.so",
    "libjanus_textroom.so",
    "libjanus_videocall.so",
    "libjanus_videoroom.so",
    "libjanus_voicemail.so",
]
TRANSPORTS_UNUSED = [
    "libjanus_http.so",
    "libjanus_mqtt.so",
    "libjanus_nanomsg.so",
    "libjanus_pfunix.so",
    "libjanus_rabbitmq.so",
]


def _quoted(value: str) -> str:
    if any(char in value for char in '"\\\n'):
        raise ImproperlyConfigured(f"Janus settings cannot hold quotes or newlines: {value!r}")
    return f'"{value}"'


def _websocket_listener(url: str) -> list[str]:
    if url.startswith("unix:"):
        return [f"ws_unix = {_quoted(url.removeprefix('unix:'))}"]
    parts = urlsplit(url)
    if parts.scheme != "ws" or not parts.hostname or not parts.port:
        raise ImproperlyConfigured("JANUS_URL is ws://<private address>:<port> or unix:<path>.")
    return [f"ws_ip = {_quoted(parts.hostname)}", f"ws_port = {parts.port}"]


def janus_config_write(folder: Path, *, url: str, api_secret: str, admin_key: str) -> Path:
    """Writes the configuration folder for `janus -F <folder>` and returns it."""
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    if settings.JANUS_ICE_ENFORCE_LIST:
        interfaces = f"ice_enforce_list = {_quoted(settings.JANUS_ICE_ENFORCE_LIST)}"
    else:
        interfaces = f"ice_ignore_list = {_quoted(settings.JANUS_ICE_IGNORE_LIST)}"
    files = {
        "janus.jcfg": f"""
general: {{
    configs_folder = {_quoted(str(folder))}
    log_to_stdout = true
    debug_level = {settings.JANUS_DEBUG_LEVEL}
    api_secret = {_quoted(api_secret)}
    server_name = "roundtable-media"
    session_timeout = 60
    event_loops = {os.cpu_count() or 1}
    hide_dependencies = true
    protected_folders = ["/bin", "/boot", "/dev", "/etc", "/lib", "/proc", "/sbin", "/sys", "/usr", "/var"]
}}
media: {{
    ipv6 = {"true" if settings.JANUS_IPV6 else "false"}
    rtp_port_range = {_quoted(settings.JANUS_RTP_PORT_RANGE)}
}}
nat: {{
    nice_debug = false
    ignore_mdns = true
    {interfaces}
}}
plugins: {{
    disable = {_quoted(",".join(PLUGINS_SHIPPED))}
}}
transports: {{
    disable = {_quoted(",".join(TRANSPORTS_UNUSED))}
}}
loggers: {{
    disable = "libjanus_jsonlog.so"
}}
events: {{
    broadcast = false
}}
""",
        "janus.plugin.audiobridge.jcfg": f"""
general: {{
    admin_key = {_quoted(admin_key)}
    lock_rtp_forward = true
    record_tmp_ext = "tmp"
    events = false
}}
""",
        "janus.plugin.streaming.jcfg": f"""
general: {{
    admin_key = {_quoted(admin_key)}
    rtp_port_range = {_quoted(settings.JANUS_FORWARD_PORT_RANGE)}
    events = false
}}
""",
        "janus.transport.websockets.jcfg": f"""
general: {{
    json = "plain"
    ws = true
    {chr(10).join("    " + line for line in _websocket_listener(url)).lstrip()}
    wss = false
}}
admin: {{
    admin_ws = false
    admin_wss = false
}}
""",
    }
    for name, text in files.items():
        path = folder / name
        path.write_text(text.lstrip())
        os.chmod(path, 0o600)
    return folder
