# Written by `bioembed export notebook`. Paths are relative to this notebook's folder.
import os

import h5py
import matplotlib.pyplot as plt
import numpy as np
from IPython.display import display

FILES = {{FILES}}
FIGURES = "figures"
os.makedirs(FIGURES, exist_ok=True)


def show(fig, name):
    """Saves the figure as figures/<name>.png and shows it."""
    fig.tight_layout()
    fig.savefig(os.path.join(FIGURES, name + ".png"), dpi=80)
    display(fig)
    plt.close(fig)


for path in FILES:
    with h5py.File(path, "r") as f:
        print(path, dict(f.attrs))
