"""The DataFlowKernel (public names live in ``plait``).

``plait.dataflow.dflow``, ``.futures``, ``.states``, ``.errors`` and
``.dependency_resolvers`` mirror Parsl's import paths.
"""
