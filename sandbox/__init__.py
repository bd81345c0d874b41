"""Running package code: sandbox backends, the tool bridge, the Package-Skill subgraph.

A *package* is a short LLM-written Python script (docs/plan-format.md): ``inputs`` maps each
dependency id to its output, ``tools.NAME(**kw)`` calls a green tool, and the script's value
is what it assigns to ``result`` (JSON). This package runs such scripts isolated, and only
isolated: never in-process, never as a plain subprocess.

Backends (:func:`sandbox.factory.make_sandbox`, ``SANDBOX_BACKEND=auto|docker|bwrap``)
    ``docker``  a new container per attempt (docker SDK): ``network_mode=none``, read-only
                root, one tmpfs at /scratch, uid 65534, memory (no swap) / CPU / pids limits,
                ``cap_drop=ALL``, ``no-new-privileges``, log driver ``none``; wall time
                enforced from the host and inside (``timeout -s KILL``); the container is
                always force-removed; should dagbot die, it stops within moments (the
                runner's watcher sees its stdin close), and it is removed at start-up.
                See :mod:`sandbox.backends.docker`.
    ``bwrap``   bubblewrap: ``--unshare-all`` (incl. network), ``--disable-userns``,
                ``--die-with-parent``, the sandbox rootfs bound read-only as ``/`` (or the
                host's /usr when the rootfs is missing), tmpfs /scratch, uid 65534 (bwrap
                itself is started as 65534 when dagbot runs as root), a seccomp filter like
                Docker's default (:mod:`sandbox.backends.seccomp`), a cgroup per run for
                memory / pids / CPU of the whole sandbox (:mod:`sandbox.backends.cgroup`),
                and rlimits on top. Without a cgroup or the filter it refuses to run.
                See :mod:`sandbox.backends.bwrap`.
    ``auto``    docker when an engine answers and has the image, else bwrap when it can
                start a sandbox, else a backend whose every run fails with a message saying
                how to install one.
    A named backend (``docker``, ``bwrap``) is probed the same way, once; when it cannot run
    here, its runs fail the same way, naming the problem and the fix.
    Both: the environment is replaced by a fixed minimal one (no host variable reaches the
    script); stdout, stderr and the JSON result are each capped at
    ``SandboxLimits.output_bytes`` with a ``[truncated …]`` marker, in the sandbox and again
    on the host (the package shares the runner's process, so only host checks count).

Channel and tool bridge (:mod:`sandbox.protocol`, :mod:`sandbox.bridge`)
    The host owns the sandbox's stdin and stdout and speaks length-prefixed JSON frames over
    them (4-byte big-endian length + UTF-8 JSON). The runner (:mod:`sandbox.runner`, passed
    as ``python3 -I -B -c SOURCE``) keeps those two descriptors for itself and gives the
    script /dev/null as stdin and a pipe as stdout, which it forwards as ``out`` frames.
    ``tools.NAME(**kw)`` sends a ``call`` frame and blocks for the ``reply``; the host side
    (:class:`sandbox.bridge.ToolBridge`) enforces the per-attempt call budget and per-call
    timeout and asks the :class:`agent.ports.sandbox.ToolGateway` (green tools only, arguments
    validated; :class:`agent.execution.gateway.GreenToolGateway` implements it over the tool
    registry). Refusals raise ``ToolNotAllowed`` / ``ToolArgumentError`` /
    ``ToolBudgetExceeded`` / ``ToolTimeout`` / ``ToolError`` inside the script. Inputs whose
    JSON exceeds 64 KiB travel as separate frames and are also written to
    ``/scratch/inputs/ID.json`` (``input_files[ID]``).

Image (``dagbot-sandbox:1``, :mod:`sandbox.image`; built by ``make sandbox-image``)
    Debian bookworm minbase with python3 (3.11) and python3-bs4, python3-lxml, python3-yaml,
    python3-dateutil; no setuid programs; /scratch as the mount point; user 65534. Built
    offline with debootstrap + ``docker import`` where no registry answers, from
    infra/sandbox/Dockerfile where one does. The same tree, extracted to
    /var/lib/dagbot/sandbox/rootfs-1, is bubblewrap's root filesystem.

Package-Skill (:class:`sandbox.reflexion.ReflexionPackageRunner`)
    A LangGraph subgraph implementing :class:`agent.ports.sandbox.PackageRunner`: run in a fresh
    sandbox; on failure the reflexion LLM rewrites the script from the goal, an input
    summary, the previous code and the error; at most ``max_attempts`` attempts, each
    announced as a :class:`agent.events.PackageAttempt` event.

This package re-exports nothing: importing one of its modules (the image's names, say, which
the settings need) does not load the sandbox and LangGraph with it.
"""
