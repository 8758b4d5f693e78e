"""Result and file I/O: atomic writes, tables, plots, ParaView fields."""
