"""The seeds' training loops as their authors wrote them, for the benchmarks to race the engine
against: seed 000's MLP GAN (a per-item PIL DataLoader, nn.Sigmoid + nn.BCELoss), seed 001's
conv GAN on CIFAR-shaped data and seed 004's conditional MLP GAN. Each `run()` is one epoch
of the seed's own loop, its per-step habits (label tensors made every step, `.to(device)`, the
`.item()` calls of its prints) included. Only file writes, FID calls and image saving are left
out, so that what is timed is training.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torchvision import transforms

from benchmarks.digits_data import PILDigits

LATENT_DIM = 100
SEED000_BATCH, SEED000_LR, SEED000_BETA1 = 128, 0.0002, 0.5  # seed 000's "Define Hyperparameters"
SEED001_LR, SEED001_BETAS = 0.0002, (0.5, 0.999)  # seed 001's optimisers


# ---- seed 000 (MLP GAN on MNIST), as written ---------------------------------------------
class Seed000Discriminator(nn.Module):
    def __init__(self):
        super(Seed000Discriminator, self).__init__()
        self.model = nn.Sequential(
            nn.Linear(784, 512),
            nn.LeakyReLU(0.2),
            nn.Dropout(0.3),
            nn.Linear(512, 256),
            nn.LeakyReLU(0.2),
            nn.Dropout(0.3),
            nn.Linear(256, 1),
            nn.Sigmoid()
        )

    def forward(self, x):
        x = x.view(x.size(0), 784)
        return self.model(x)


class Seed000Generator(nn.Module):
    def __init__(self):
        super(Seed000Generator, self).__init__()
        self.model = nn.Sequential(
            nn.Linear(LATENT_DIM, 256),
            nn.ReLU(),
            nn.Dropout(0.3),
            nn.Linear(256, 512),
            nn.ReLU(),
            nn.Dropout(0.3),
            nn.Linear(512, 1024),
            nn.ReLU(),
            nn.Dropout(0.3),
            nn.Linear(1024, 784),
            nn.Tanh()
        )

    def forward(self, x):
        return self.model(x).view(x.size(0), 1, 28, 28)


class Seed000Loop:
    def __init__(self, images: np.ndarray, labels: np.ndarray, device: torch.device, seed: int):
        torch.manual_seed(seed)
        self.device = device
        transform = transforms.Compose([
            transforms.ToTensor(),
            transforms.Normalize((0.5,), (0.5,))
        ])
        mnist = PILDigits(images, labels, transform)
        self.data_loader = torch.utils.data.DataLoader(dataset=mnist, batch_size=SEED000_BATCH, shuffle=True)
        self.G = Seed000Generator().to(device)
        self.D = Seed000Discriminator().to(device)
        self.criterion = nn.BCELoss()
        self.optimizerG = torch.optim.Adam(self.G.parameters(), lr=SEED000_LR, betas=(SEED000_BETA1, 0.999))
        self.optimizerD = torch.optim.Adam(self.D.parameters(), lr=SEED000_LR, betas=(SEED000_BETA1, 0.999))
        self.d_losses: list[float] = []
        self.g_losses: list[float] = []
        self.epoch = 0
        self.images_per_epoch = len(mnist)

    def run(self, max_steps: int | None = None, should_stop=None) -> str:
        """One epoch of the seed's loop (or its first `max_steps` steps, for warm-up; or until
        `should_stop()`, which the time-to-digits benchmark polls every step)."""
        G, D, criterion, device = self.G, self.D, self.criterion, self.device
        optimizerG, optimizerD, data_loader = self.optimizerG, self.optimizerD, self.data_loader
        latent_dim = LATENT_DIM
        for i, (imgs, _) in enumerate(data_loader):
            if (max_steps is not None and i >= max_steps) or (should_stop is not None and should_stop()):
                break
            real_imgs = imgs.to(device)
            real_labels = torch.ones(real_imgs.size(0), 1).to(device)
            fake_labels = torch.zeros(real_imgs.size(0), 1).to(device)
            z = torch.randn(real_imgs.size(0), latent_dim).to(device)
            fake_imgs = G(z)

            optimizerD.zero_grad()
            outputs = D(real_imgs)
            d_loss_real = criterion(outputs, real_labels)
            outputs = D(fake_imgs.detach())
            d_loss_fake = criterion(outputs, fake_labels)
            d_loss = d_loss_real + d_loss_fake
            d_loss.backward()
            optimizerD.step()

            optimizerG.zero_grad()
            outputs = D(fake_imgs)
            g_loss = criterion(outputs, real_labels)
            g_loss.backward()
            optimizerG.step()

        # The seed's per-epoch bookkeeping (without save_image, FID and file writes).
        self.d_losses.append(d_loss.item())
        self.g_losses.append(g_loss.item())
        return (f'Epoch [{self.epoch + 1}], Step [{i + 1}/{len(data_loader)}], '
                f'd_loss: {d_loss.item():.4f}, g_loss: {g_loss.item():.4f}')


# ---- seed 001 (conv GAN on CIFAR-10), as written ----------------------------------------
class Seed001Generator(nn.Module):
    def __init__(self, latent_dim):
        super(Seed001Generator, self).__init__()
        self.model = nn.Sequential(
            nn.Linear(latent_dim, 128 * 8 * 8),
            nn.ReLU(),
            nn.Unflatten(1, (128, 8, 8)),
            nn.Upsample(scale_factor=2),
            nn.Conv2d(128, 128, kernel_size=3, padding=1),
            nn.BatchNorm2d(128, momentum=0.78),
            nn.ReLU(),
            nn.Upsample(scale_factor=2),
            nn.Conv2d(128, 64, kernel_size=3, padding=1),
            nn.BatchNorm2d(64, momentum=0.78),
            nn.ReLU(),
            nn.Conv2d(64, 3, kernel_size=3, padding=1),
            nn.Tanh()
        )

    def forward(self, z):
        img = self.model(z)
        return img


class Seed001Discriminator(nn.Module):
    def __init__(self):
        super(Seed001Discriminator, self).__init__()
        self.model = nn.Sequential(
            nn.Conv2d(3, 32, kernel_size=3, stride=2, padding=1),
            nn.LeakyReLU(0.2),
            nn.Dropout(0.25),
            nn.Conv2d(32, 64, kernel_size=3, stride=2, padding=1),
            nn.ZeroPad2d((0, 1, 0, 1)),
            nn.BatchNorm2d(64, momentum=0.82),
            nn.LeakyReLU(0.25),
            nn.Dropout(0.25),
            nn.Conv2d(64, 128, kernel_size=3, stride=2, padding=1),
            nn.BatchNorm2d(128, momentum=0.82),
            nn.LeakyReLU(0.2),
            nn.Dropout(0.25),
            nn.Conv2d(128, 256, kernel_size=3, stride=1, padding=1),
            nn.BatchNorm2d(256, momentum=0.8),
            nn.LeakyReLU(0.25),
            nn.Dropout(0.25),
            nn.Flatten(),
            nn.Linear(256 * 5 * 5, 1),
            nn.Sigmoid()
        )

    def forward(self, img):
        validity = self.model(img)
        return validity


class Seed001Loop:
    def __init__(self, images: torch.Tensor, labels: torch.Tensor, device: torch.device, seed: int,
                 batch_size: int):
        torch.manual_seed(seed)
        self.device = device
        train_dataset = torch.utils.data.TensorDataset(images.float().div_(127.5).sub_(1.0), labels)
        self.dataloader = torch.utils.data.DataLoader(train_dataset, batch_size=batch_size, shuffle=True)
        self.generator = Seed001Generator(LATENT_DIM).to(device)
        self.discriminator = Seed001Discriminator().to(device)
        self.adversarial_loss = nn.BCELoss()
        self.optimizer_G = torch.optim.Adam(self.generator.parameters(), lr=SEED001_LR, betas=SEED001_BETAS)
        self.optimizer_D = torch.optim.Adam(self.discriminator.parameters(), lr=SEED001_LR, betas=SEED001_BETAS)
        self.epoch = 0
        self.images_per_epoch = len(train_dataset)
        self.steps_per_epoch = len(self.dataloader)
        self.message = ""

    def run(self, max_steps: int | None = None) -> str:
        """One epoch of the seed's loop (or its first `max_steps` steps, for warm-up)."""
        generator, discriminator, adversarial_loss = self.generator, self.discriminator, self.adversarial_loss
        optimizer_G, optimizer_D, dataloader, device = self.optimizer_G, self.optimizer_D, self.dataloader, self.device
        latent_dim, epoch, num_epochs = LATENT_DIM, self.epoch, 10
        for i, batch in enumerate(dataloader):
            if max_steps is not None and i >= max_steps:
                break
            real_images = batch[0].to(device)
            valid = torch.ones(real_images.size(0), 1, device=device)
            fake = torch.zeros(real_images.size(0), 1, device=device)
            real_images = real_images.to(device)

            optimizer_D.zero_grad()
            z = torch.randn(real_images.size(0), latent_dim, device=device)
            fake_images = generator(z)
            real_loss = adversarial_loss(discriminator(real_images), valid)
            fake_loss = adversarial_loss(discriminator(fake_images.detach()), fake)
            d_loss = (real_loss + fake_loss) / 2
            d_loss.backward()
            optimizer_D.step()

            optimizer_G.zero_grad()
            gen_images = generator(z)
            g_loss = adversarial_loss(discriminator(gen_images), valid)
            g_loss.backward()
            optimizer_G.step()

            if (i + 1) % 100 == 0:  # the seed prints this; we keep the string (and its two syncs)
                self.message = (f"Epoch [{epoch+1}/{num_epochs}] Batch {i+1}/{len(dataloader)} "
                                f"Discriminator Loss: {d_loss.item():.4f} "
                                f"Generator Loss: {g_loss.item():.4f}")
        return self.message or f"d_loss {d_loss.item():.4f}, g_loss {g_loss.item():.4f}"


# ---- seed 004 (conditional MLP GAN on MNIST), as written ------------------------------------
# Seed 004 gives its networks, its batch of 64 and its BCE losses, but not its optimiser: the
# `seed004` preset of ganlib.store.presets holds the values the workbench uses for it.
class Seed004Generator(nn.Module):
    def __init__(self, latent_dim=100, num_classes=10, embedding_dim=16):
        super().__init__()
        self.embeddings = nn.Embedding(num_classes, embedding_dim)
        self.generator = nn.Sequential(
            nn.Linear(latent_dim + embedding_dim, 256),
            nn.LeakyReLU(),
            nn.Dropout(p=0.2),
            nn.Linear(256, 512),
            nn.LeakyReLU(),
            nn.Dropout(p=0.2),
            nn.Linear(512, 1024),
            nn.LeakyReLU(),
            nn.Dropout(p=0.2),
            nn.Linear(1024, 784),
            nn.Tanh()
        )

    def forward(self, noise, labels):
        bath_size = noise.shape[0]
        embeddings = self.embeddings(labels)
        noise = torch.cat([noise, embeddings], dim=-1)
        generated = self.generator(noise)
        generated = generated.reshape(bath_size, 1, 28, 28)
        return generated


class Seed004Discriminator(nn.Module):
    def __init__(self, num_classes=10, embedding_dim=16):
        super().__init__()
        self.embeddings = nn.Embedding(num_classes, embedding_dim)
        self.discriminator = nn.Sequential(
            nn.Linear(784 + embedding_dim, 1024),
            nn.LeakyReLU(),
            nn.Dropout(p=0.2),
            nn.Linear(1024, 512),
            nn.LeakyReLU(),
            nn.Dropout(p=0.2),
            nn.Linear(512, 256),
            nn.LeakyReLU(),
            nn.Dropout(p=0.2),
            nn.Linear(256, 1)
        )

    def forward(self, x, labels):
        batch_size = x.shape[0]
        embeddings = self.embeddings(labels)
        x = x.reshape(batch_size, -1)
        x = torch.cat([x, embeddings], dim=1)
        return self.discriminator(x)


class Seed004Loop:
    """Seed 004's CGAN loop: a DataLoader of (image, digit) pairs with ToTensor + Normalize, D on
    real (with the true digits) and on detached fakes (with random digits), disc_loss the mean of
    the two, then G on fresh noise and fresh random digits. D ends in a Linear layer, so its
    "BCELoss" is the logit form, BCEWithLogitsLoss (plain BCELoss would reject logits)."""

    def __init__(self, images: np.ndarray, labels: np.ndarray, device: torch.device, seed: int,
                 batch_size: int = 64, lr: float = 2e-4, betas: tuple[float, float] = (0.5, 0.999),
                 latent_dim: int = LATENT_DIM):
        torch.manual_seed(seed)
        self.device, self.batch_size, self.latent_dim, self.num_classes = device, batch_size, latent_dim, 10
        transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))])
        self.data_loader = torch.utils.data.DataLoader(PILDigits(images, labels, transform),
                                                       batch_size=batch_size, shuffle=True)
        self.generator = Seed004Generator(latent_dim).to(device)
        self.discriminator = Seed004Discriminator().to(device)
        self.loss_func = nn.BCEWithLogitsLoss()
        self.gen_optimizer = torch.optim.Adam(self.generator.parameters(), lr=lr, betas=betas)
        self.disc_optimizer = torch.optim.Adam(self.discriminator.parameters(), lr=lr, betas=betas)
        self.generator_epoch_losses: list[float] = []

    def run(self, should_stop=lambda: False) -> bool:
        """One epoch; returns False when `should_stop()` asked to end early (checked per step)."""
        generator, discriminator, loss_func = self.generator, self.discriminator, self.loss_func
        gen_optimizer, disc_optimizer, device = self.gen_optimizer, self.disc_optimizer, self.device
        latent_dim, num_classes = self.latent_dim, self.num_classes
        for images, true_digits in self.data_loader:
            if should_stop():
                return False
            images, true_digits = images.to(device), true_digits.to(device)
            batch_size = images.shape[0]
            true_labels = torch.ones(batch_size, 1, device=device)
            noise = torch.randn(batch_size, latent_dim, device=device)
            rand_digits = torch.randint(0, num_classes, size=(batch_size,), device=device)
            generated_labels = torch.zeros(batch_size, 1, device=device)

            generated_images = generator(noise, rand_digits).detach()
            real_discriminator_pred = discriminator(images, true_digits)
            gen_discriminator_pred = discriminator(generated_images, rand_digits)
            real_loss = loss_func(real_discriminator_pred, true_labels)
            fake_loss = loss_func(gen_discriminator_pred, generated_labels)
            disc_loss = (real_loss + fake_loss) / 2
            disc_optimizer.zero_grad()
            disc_loss.backward()
            disc_optimizer.step()

            rand_digits = torch.randint(0, num_classes, size=(batch_size,), device=device)
            noise = torch.randn(batch_size, latent_dim, device=device)
            generated_images = generator(noise, rand_digits)
            gen_discriminator_pred = discriminator(generated_images, rand_digits)
            generator_loss = loss_func(gen_discriminator_pred, true_labels)
            self.generator_epoch_losses.append(generator_loss.item())  # the seed's per-step .item()
            gen_optimizer.zero_grad()
            generator_loss.backward()
            gen_optimizer.step()
        return True
