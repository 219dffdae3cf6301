"""The region's reference data: its cities, their roles and circles (``cities``), GB/T 2260 codes
(``adcodes``), and the seed's centres, organisations, people, policies with targets and news (``seed``,
loaded by ``loader.load_region``)."""
