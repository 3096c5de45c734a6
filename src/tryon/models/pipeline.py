"""The SDXL ControlNet inpainting pipeline, with IP-Adapter embeddings taken per sample as given."""

from __future__ import annotations

from diffusers import StableDiffusionXLControlNetInpaintPipeline


class PerSampleGarmentPipeline(StableDiffusionXLControlNetInpaintPipeline):
    """diffusers' pipeline, except that precomputed IP-Adapter embeddings are used exactly as passed.

    Upstream `prepare_ip_adapter_image_embeds` concatenates the given embeddings `batch_size` times
    (diffusers issue 9813): per-sample embeddings of shape (2B, T, D) become (2B², T, D), and the
    attention processor then folds them so that every sample attends to every garment in its batch.
    Try-on needs the opposite: sample i sees garment i only. The engine therefore passes, for each
    IP-Adapter, a tensor already laid out as the UNet wants it, `[negatives of the B samples,
    positives of the B samples]` (the same order as the prompt embeddings under classifier-free
    guidance), and this override only moves it to the device.
    """

    def prepare_ip_adapter_image_embeds(self, ip_adapter_image, ip_adapter_image_embeds, device,
                                        num_images_per_prompt, do_classifier_free_guidance):
        if ip_adapter_image_embeds is None:
            return super().prepare_ip_adapter_image_embeds(
                ip_adapter_image, None, device, num_images_per_prompt, do_classifier_free_guidance)
        return [embeds.to(device=device) for embeds in ip_adapter_image_embeds]
