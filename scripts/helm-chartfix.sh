#!/bin/sh
# The Helm plugin's command (plugin.yaml): run the chartfix that is installed, with the
# arguments given after `helm chartfix`. Helm keeps --namespace/-n for itself and passes it
# on as HELM_NAMESPACE; check, fix and bulk get it back as the namespace to render into,
# unless their arguments name one.
set -eu
case "${1:-}" in
    check | fix | bulk)
        case " $* " in
            *" --namespace "* | *" --namespace="*) ;;
            *) if [ -n "${HELM_NAMESPACE:-}" ]; then set -- "$@" --namespace "$HELM_NAMESPACE"; fi ;;
        esac ;;
esac
if ! command -v chartfix >/dev/null 2>&1; then
    # The plugin's folder is a clone of chartfix: install from it, never from a package
    # index name (chartfix is not published under that name).
    source=${HELM_PLUGIN_DIR:-${0%/scripts/*}}
    echo "helm chartfix: no chartfix on PATH (install it from this plugin's clone: pip install '$source')" >&2
    exit 2
fi
exec chartfix "$@"
