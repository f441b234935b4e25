"""COCO's greedy matching of detections to ground truth, vectorised over images and thresholds.

The rule (pycocotools' ``COCOeval.evaluateImg``), per image, per class and per IoU threshold
``t``: take the detections by decreasing score (the first ``max_detections`` of them, ties in
input order); each one matches, among the not yet matched ground-truth boxes with IoU ``>= t``,
the one with the highest IoU (the last such box on ties); a box that is *ignored* (outside the
area range) is taken only when no regular box qualifies, and a detection matched to it, or
unmatched and itself outside the area range, is ignored (neither true nor false positive).

The rule is sequential in the detections, so the loop runs over the detection *rank* (at most
``max_detections`` steps) while every (image, class) group and every threshold advances at once.
Each detection keeps one row of IoUs with its group's boxes (padded to the group's bucket:
groups are batched by their number of boxes rounded up to a power of two, in batches of bounded
memory), rows are ordered by (rank, group) with the groups by decreasing detection count, so
step ``k`` reads one contiguous block: the ``k``-th detections of the groups that have one. IoU is
``torchvision.ops.box_iou`` in float64: pycocotools' arithmetic for boxes that came from float32
(its ``x + w`` is then exactly our ``x2``), so thresholds compare the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor
from torchvision.ops import box_iou

from cnnlab.metrics.detection_inputs import Boxes

__all__ = ["CHUNK_ELEMENTS", "Matches", "match_detections"]

CHUNK_ELEMENTS = 1 << 20
"""Most (detection, box) pairs matched in one batch: ~40 MB of float64 boxes and IoUs."""

_batched_box_iou = torch.vmap(box_iou)


@dataclass(frozen=True)
class Matches:
    """Per kept detection, sorted by (image, class, decreasing score): its class index, image
    and score, and per threshold whether it matched (``matched``, ``(T, D)``) and whether it is
    ignored (``ignored``, ``(T, D)``). ``gt_class`` and ``gt_ignored`` hold every ground-truth
    box's class index and ignore flag."""

    det_class: Tensor
    det_image: Tensor
    det_score: Tensor
    matched: Tensor
    ignored: Tensor
    gt_class: Tensor
    gt_ignored: Tensor


def _order_within_groups(group: Tensor, key: Tensor) -> tuple[Tensor, Tensor]:
    """Indices sorting by ``group`` then ``key`` (stable), and each entry's rank in its group."""
    order = torch.argsort(key, stable=True)
    order = order[torch.argsort(group[order], stable=True)]
    sorted_group = group[order]
    first = torch.searchsorted(sorted_group, sorted_group, side="left")
    rank = torch.arange(len(order), device=group.device) - first
    return order, rank


def _chunks(gt_counts: list[int], det_counts: list[int]) -> list[list[int]]:
    """Groups (indices into the count lists) batched together: the same power-of-two bucket of
    ground-truth counts (so padding at most doubles the boxes per group), at most
    :data:`CHUNK_ELEMENTS` (detection, box) pairs per batch."""
    buckets: dict[int, list[int]] = {}
    for i, g in enumerate(gt_counts):
        buckets.setdefault((g - 1).bit_length(), []).append(i)
    chunks = []
    for bits, members in sorted(buckets.items()):
        width, chunk, pairs = 1 << bits, [], 0
        for i in members:
            if chunk and pairs + det_counts[i] * width > CHUNK_ELEMENTS:
                chunks.append(chunk)
                chunk, pairs = [], 0
            chunk.append(i)
            pairs += det_counts[i] * width
        chunks.append(chunk)
    return chunks


def _match_chunk(
    iou: Tensor, gt_ignored: Tensor, block_sizes: list[int], thresholds: Tensor
) -> tuple[Tensor, Tensor]:
    """Greedy matching of one batch of groups.

    ``iou`` ``(N, G)`` holds each detection's IoU with the (padded, ``-inf``) boxes of its
    group, rows ordered by (rank, group): block ``k`` has the ``k``-th detection of the first
    ``block_sizes[k]`` groups (groups are ordered by decreasing detection count).
    ``gt_ignored`` is ``(B, G)``. Returns ``matched`` and ``matched_to_ignored``, ``(T, N)``.
    """
    n_rows, g = iou.shape
    t = thresholds.shape[0]
    taken = torch.zeros(block_sizes[0], t, g, dtype=torch.bool, device=iou.device)
    matched = torch.zeros(t, n_rows, dtype=torch.bool, device=iou.device)
    to_ignored = torch.zeros_like(matched)
    columns = torch.arange(g, device=iou.device)
    start = 0
    for n in block_sizes:
        iou_k = iou[start : start + n, None, :]  # (n, 1, G)
        ok = (iou_k >= thresholds[:, None]) & ~taken[:n]  # (n, T, G)
        ignored = gt_ignored[:n, None, :]
        regular = ok & ~ignored
        has_regular = regular.any(dim=-1)
        candidates = torch.where(has_regular[..., None], regular, ok & ignored)
        has = candidates.any(dim=-1)
        scored = torch.where(candidates, iou_k, -1.0).flip(-1)
        best = (g - 1) - scored.argmax(dim=-1)  # the last maximum, as pycocotools
        taken[:n] |= (columns == best[..., None]) & has[..., None]
        matched[:, start : start + n] = has.T
        to_ignored[:, start : start + n] = (has & ~has_regular).T
        start += n
    return matched, to_ignored


def match_detections(
    dets: Boxes,
    gts: Boxes,
    thresholds: Tensor,
    *,
    max_detections: int,
    area_range: tuple[float, float],
) -> Matches:
    """Match detections to ground truth per (image, class) for every IoU threshold (COCO rules).

    Args:
        dets: detections (with scores), flattened over images.
        gts: ground-truth boxes, flattened over images.
        thresholds: ``(T,)`` float64 IoU thresholds (already capped at ``1 - 1e-10``).
        max_detections: detections kept per image and class, the highest scores.
        area_range: boxes with area outside ``[low, high]`` are ignored.

    Returns:
        The kept detections' :class:`Matches`.
    """
    device = dets.boxes.device
    classes = torch.unique(torch.cat([dets.labels, gts.labels]))
    num_classes = max(len(classes), 1)
    det_class = torch.searchsorted(classes, dets.labels)
    gt_class = torch.searchsorted(classes, gts.labels)
    det_group = dets.image * num_classes + det_class
    gt_group = gts.image * num_classes + gt_class

    if dets.scores is None:
        raise ValueError("detections need scores to be ranked")
    order, rank = _order_within_groups(det_group, -dets.scores)
    keep = rank < max_detections
    order, rank = order[keep], rank[keep]
    det_group, det_boxes = det_group[order], dets.boxes[order]

    low, high = area_range
    det_area = (det_boxes[:, 2] - det_boxes[:, 0]) * (det_boxes[:, 3] - det_boxes[:, 1])
    gt_area = (gts.boxes[:, 2] - gts.boxes[:, 0]) * (gts.boxes[:, 3] - gts.boxes[:, 1])
    gt_ignored = (gt_area < low) | (gt_area > high)
    gt_order, gt_rank = _order_within_groups(gt_group, gt_ignored.to(torch.int8))
    gt_group_sorted = gt_group[gt_order]

    t = thresholds.shape[0]
    matched = torch.zeros(t, len(order), dtype=torch.bool, device=device)
    to_ignored = torch.zeros_like(matched)

    # only groups with both detections and ground truth need matching
    det_ids, det_counts = torch.unique_consecutive(det_group, return_counts=True)
    gt_ids, gt_counts = torch.unique_consecutive(gt_group_sorted, return_counts=True)
    det_counts = det_counts[torch.isin(det_ids, gt_ids)]
    gt_keep = torch.isin(gt_ids, det_ids)
    ids, gt_counts = gt_ids[gt_keep], gt_counts[gt_keep]
    det_in = torch.nonzero(torch.isin(det_group, ids)).flatten()  # kept-detection positions
    gt_in = torch.isin(gt_group_sorted, ids)
    gt_where, gt_col = gt_order[gt_in], gt_rank[gt_in]
    counts_d, counts_g = det_counts.tolist(), gt_counts.tolist()
    det_start = torch.cumsum(det_counts, 0) - det_counts  # first row of each group in det_in
    gt_start = torch.cumsum(gt_counts, 0) - gt_counts

    for members in _chunks(counts_g, counts_d):
        groups = torch.tensor(members, device=device)
        by_count = torch.argsort(det_counts[groups], descending=True, stable=True)
        groups = groups[by_count]  # slot s holds group groups[s]
        b, width = len(members), max(counts_g[i] for i in members)
        n_det = det_counts[groups]
        # rows ordered by (rank, slot): block k = the k-th detection of the first groups
        slot = torch.repeat_interleave(torch.arange(b, device=device), n_det)
        rank_in_group = torch.arange(len(slot), device=device) - torch.repeat_interleave(
            torch.cumsum(n_det, 0) - n_det, n_det
        )
        rows = torch.argsort(rank_in_group * b + slot, stable=True)
        slot, rank_in_group = slot[rows], rank_in_group[rows]
        det_pos = det_in[det_start[groups][slot] + rank_in_group]
        block_sizes = torch.bincount(rank_in_group).tolist()

        n_gt = gt_counts[groups]
        gt_slot = torch.repeat_interleave(torch.arange(b, device=device), n_gt)
        gt_idx = torch.repeat_interleave(gt_start[groups], n_gt) + (
            torch.arange(len(gt_slot), device=device)
            - torch.repeat_interleave(torch.cumsum(n_gt, 0) - n_gt, n_gt)
        )
        col = gt_col[gt_idx]
        pad = torch.zeros(b, width, 4, dtype=torch.float64, device=device)
        pad[gt_slot, col] = gts.boxes[gt_where[gt_idx]]
        valid = torch.zeros(b, width, dtype=torch.bool, device=device)
        valid[gt_slot, col] = True
        ignored = torch.zeros_like(valid)
        ignored[gt_slot, col] = gt_ignored[gt_where[gt_idx]]
        # each detection against its group's boxes; 0 / 0 (empty boxes) is IoU 0 as pycocotools
        iou = _batched_box_iou(det_boxes[det_pos, None, :], pad[slot]).squeeze(1)
        iou = torch.where(valid[slot], torch.nan_to_num(iou, nan=0.0), -torch.inf)
        m, mi = _match_chunk(iou, ignored, block_sizes, thresholds)
        matched[:, det_pos] = m
        to_ignored[:, det_pos] = mi

    det_outside = (det_area < low) | (det_area > high)
    return Matches(
        det_class=det_class[order],
        det_image=dets.image[order],
        det_score=dets.scores[order],
        matched=matched,
        ignored=to_ignored | (~matched & det_outside),
        gt_class=gt_class,
        gt_ignored=gt_ignored,
    )
