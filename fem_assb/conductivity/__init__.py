"""Effective conductivity and tortuosity (seed 000's flux-based method): a steady
−∇·(σ∇φ) = 0 with φ = U at x = 0 and φ = 0 at x = L, insulated elsewhere."""
