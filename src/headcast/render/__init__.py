"""CPU rendering (moderngl on EGL / llvmpipe) for previews, turntables, texture baking and evaluation."""
