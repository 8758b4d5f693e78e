"""Pseudo-two-dimensional (Newman/Wolff) model of the solid-state half cell, with its parameters
measured on the 3D structures (seed 004: the AM specific contact area diameter D_SCA).

cell.py holds the homogenised cell (plain data with the source of every number), measure.py
derives it from a structure, solve.py runs it with PyBaMM, bpx.py writes it as a Battery
Parameter eXchange file.
"""
