"""Air-quality gauges: the smallest complete module, the worked example of docs/modules.md.

Loaded with ``ZHULIAN_MODULES=tests.modules.gauges`` (or ``zhulian.plugins.add_module``); as a folder of
``src/zhulian/`` it would be found by name."""
