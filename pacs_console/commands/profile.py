"""`pacs-console profile set|show`: the engineer profile every signed report names."""

from __future__ import annotations

import json
import sys

from pacs_console.commands.options import action_parsers

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _paths(args):
    from pacs_console.paths import app_paths

    return app_paths(args.data_dir).ensure()


def _show(args) -> int:
    from pacs_console.core.reports.certs import certificate_info
    from pacs_console.core.settings import SettingsError, load_settings

    paths = _paths(args)
    try:
        profile = load_settings(paths.settings_file).profile
    except SettingsError as exc:
        print(f"profile show: {exc}", file=sys.stderr)
        return EXIT_FAILED
    cert = certificate_info(paths.data)
    current = cert is not None and (cert.name, cert.organisation) == profile.identity
    data = {**profile.to_dict(), "certificate": cert.to_dict() if cert and current else None}
    if args.json:
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return EXIT_OK
    if not profile.complete:
        print("No engineer profile yet: pacs-console profile set --name NAME --org ORG")
    for label, value in (("Name", profile.name), ("Organisation", profile.organisation),
                         ("Role", profile.role), ("Email", profile.email),
                         ("Phone", profile.phone), ("Logo", profile.logo)):
        if value:
            print(f"{label + ':':<14}{value}")
    if cert and current:
        print(f"{'Certificate:':<14}SHA-256 {cert.fingerprint_sha256}, valid until "
              f"{cert.not_after:%Y-%m-%d}")
    elif profile.complete:
        print(f"{'Certificate:':<14}made on the first signing")
    return EXIT_OK


def _set(args) -> int:
    from dataclasses import replace

    from pacs_console.core.profile import ProfileError, validated
    from pacs_console.core.settings import SettingsError, load_settings, save_settings

    paths = _paths(args)
    try:
        settings = load_settings(paths.settings_file)
        old = settings.profile
        changes = {k: v for k, v in (("name", args.name), ("organisation", args.org),
                                     ("role", args.role), ("email", args.email),
                                     ("phone", args.phone), ("logo", args.logo)) if v is not None}
        new = replace(old, **changes)
        updated = replace(settings, profile=validated(new))
        if not (updated.profile.name and updated.profile.organisation):
            print("profile set: a profile needs both --name and --org", file=sys.stderr)
            return EXIT_USAGE
        save_settings(paths.settings_file, updated)
    except ProfileError as exc:
        print(f"profile set: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except SettingsError as exc:
        print(f"profile set: {exc}", file=sys.stderr)
        return EXIT_FAILED
    profile = updated.profile
    if args.json:
        print(json.dumps(profile.to_dict(), ensure_ascii=False, indent=2))
    else:
        print(f"Profile saved: {profile.name}, {profile.organisation}")
        if old.complete and old.identity != profile.identity:
            print("Your name or organisation changed: the next signing makes a new certificate "
                  "(the old one is kept to verify earlier reports).")
    return EXIT_OK


def register(subparsers) -> None:
    sub = action_parsers(subparsers, "profile", "the engineer profile signed reports name")
    p = sub.add_parser("set", help="set your name, organisation and contact details",
                       description="The signing certificate is made from this profile (never "
                                   "from a visit's data); changing the name or organisation "
                                   "makes a new certificate at the next signing.")
    p.add_argument("--name", help="your full name, as it should appear on reports")
    p.add_argument("--org", help="the organisation you sign for")
    p.add_argument("--role", help="e.g. Field service engineer")
    p.add_argument("--email")
    p.add_argument("--phone")
    p.add_argument("--logo", metavar="FILE", help="the organisation's logo (PNG or JPEG)")
    p.add_argument("--json", action="store_true", help="one JSON document on stdout")
    p.set_defaults(handler=_set)
    p = sub.add_parser("show", help="show the profile and its signing certificate")
    p.add_argument("--json", action="store_true", help="one JSON document on stdout")
    p.set_defaults(handler=_show)
