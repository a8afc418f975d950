"""Formatting shared by the tools' tables: counts, times, Markdown, CSV."""
import csv


def fmt_params(n):
    return f'{n / 1e6:.2f}M'


def fmt_flops(n):
    return f'{n / 1e9:.2f}G' if n >= 1e9 else f'{n / 1e6:.0f}M'


def fmt_ms(seconds):
    return f'{seconds * 1e3:.2f} ms'


def markdown_table(header, rows):
    """A Markdown table (text lines) of ``rows`` (lists of cells) under
    ``header``; '|' inside a cell becomes '/'."""
    def line(cells):
        return '| ' + ' | '.join(str(c).replace('|', '/')
                                 for c in cells) + ' |'
    return [line(header), '|' + '---|' * len(header)] + [
        line(cells) for cells in rows]


def write_csv(records, path):
    """``records`` (dicts with the same keys) as a CSV file."""
    with open(path, 'w', newline='') as f:
        writer = csv.DictWriter(f, fieldnames=list(records[0]))
        writer.writeheader()
        writer.writerows(records)
