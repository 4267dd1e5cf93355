# Each module below registers its classes on import.
from .associative_embedding import (AssociativeEmbedding, aggregate_flip,
                                    aggregate_multiscale,
                                    decode_associative_embedding,
                                    encode_keypoint_indices)
from .gaussian_heatmap import (MSRAHeatmap, decode_heatmaps,
                               encode_gaussian_heatmaps, flip_heatmaps)
