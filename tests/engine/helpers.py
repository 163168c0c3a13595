"""Small synthetic PreparedDatasets for engine tests (fast on CPU)."""

import torch

from sbadbal.data.prepared import PreparedDataset


def blobs(num_train=240, num_test=90, num_classes=3, dim=6, seed=0, name="AGNEWS") -> PreparedDataset:
    """Gaussian class clusters as an embedding dataset (named like the registry's embedding set, AGNEWS)."""
    generator = torch.Generator().manual_seed(seed)
    centres_C_D = 3.0 * torch.randn(num_classes, dim, generator=generator)

    def draw(n):
        y = torch.arange(n) % num_classes
        x = centres_C_D[y] + torch.randn(n, dim, generator=generator)
        return x.float(), y

    train_x, train_y = draw(num_train)
    test_x, test_y = draw(num_test)
    return PreparedDataset(name=name, num_classes=num_classes, kind="embedding", base_train_x=train_x,
                           base_train_y=train_y, test_x=test_x, test_y=test_y)


def tiny_images(num_train=64, num_test=16, num_classes=4, seed=0, augmentation="crop_flip_reflect") -> PreparedDataset:
    generator = torch.Generator().manual_seed(seed)
    return PreparedDataset(
        name="TINYIMG", num_classes=num_classes, kind="image",
        base_train_x=torch.randint(0, 256, (num_train, 3, 32, 32), generator=generator, dtype=torch.uint8),
        base_train_y=torch.arange(num_train) % num_classes,
        test_x=torch.randint(0, 256, (num_test, 3, 32, 32), generator=generator, dtype=torch.uint8),
        test_y=torch.arange(num_test) % num_classes,
        mean=(0.5, 0.5, 0.5), std=(0.25, 0.25, 0.25), augmentation=augmentation,
    )
