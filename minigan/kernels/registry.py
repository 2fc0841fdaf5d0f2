"""The table of fused kernels: name -> (NumPy twin, CUDA body). See minigan/kernels/__init__.py."""
import collections

Kernel = collections.namedtuple("Kernel", "twin in_params out_params operation reduce")
KERNELS = {}  # name -> Kernel


def kernel(in_params, out_params, operation, reduce=None):
    """Register the decorated NumPy twin under its name with its CUDA body, in CuPy's kernel syntax:
    ``in_params``/``out_params`` as ``cupy.ElementwiseKernel`` takes them, ``operation`` its body (one
    thread per element). With ``reduce`` = (reduce_expr, post_map_expr, identity) it is a
    ``cupy.ReductionKernel`` whose map expression is ``operation``."""
    def register(twin):
        KERNELS[twin.__name__] = Kernel(twin, in_params, out_params, operation, reduce)
        return twin
    return register
