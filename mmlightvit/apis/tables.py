"""Formatting shared by the tools' tables: counts, times, Markdown, CSV."""
import csv
import os.path as osp


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


def split_at_markers(path, start, end):
    """The text of ``path`` before ``start`` and after ``end`` (two marker
    lines, e.g. of a README); ValueError naming the file without them."""
    if not osp.isfile(path):
        raise ValueError(f'{path} does not exist')
    with open(path) as f:
        text = f.read()
    if start not in text or end not in text:
        raise ValueError(f'{path} has no {start} ... {end} markers')
    head, rest = text.split(start, 1)
    return head, rest.split(end, 1)[1]


def write_between_markers(path, start, end, lines):
    """Replace what is between the ``start`` and ``end`` marker lines of the
    text file ``path`` (a README) by ``lines``."""
    head, tail = split_at_markers(path, start, end)
    with open(path, 'w') as f:
        f.write(head + start + '\n' + '\n'.join(lines) + '\n' + end + tail)


def write_csv(records, path):
    """``records`` (dicts with the same keys) as a CSV file."""
    with open(path, 'w', newline='') as f:
        writer = csv.DictWriter(f, fieldnames=list(records[0]))
        writer.writeheader()
        writer.writerows(records)
