/**
 * Run silently before a sweep run's cells (not recorded): `record(name, value)` writes the same
 * display scrapbook's `glue` writes, so notebooks that already use scrapbook and ones that use
 * this helper are read the same way. The SLURM runner gets the same text.
 */
export const SCRAP_MIME = 'application/scrapbook.scrap.json+json';

export const RECORD_HELPER_PYTHON = `def record(name, value):
    from IPython.display import display
    display({"${SCRAP_MIME}": {"name": name, "data": value, "encoder": "json", "version": 1}}, raw=True)
`;
