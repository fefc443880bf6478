import bird from '../fixtures/images/bird.png'
import birdUp from '../fixtures/images/bird.png?upscale'
import butterfly from '../fixtures/images/butterfly.png'
import butterflyUp from '../fixtures/images/butterfly.png?scale=2&upscale'
import head from '../fixtures/images/head.jpg'
import headUp from '../fixtures/images/head.jpg?scale=4&type=face&as=metadata&upscale'
import monarch from '../fixtures/images/monarch.jpg'
import monarchUp from '../fixtures/images/monarch.jpg?upscale'
import woman from '../fixtures/images/woman.png'
import womanUp from '../fixtures/images/woman.png?scale=4&format=webp&quality=85&upscale'

interface Pair { query: string, original: string, enhanced: string }

const pairs: Pair[] = [
  { query: 'bird.png?upscale', original: bird, enhanced: birdUp },
  { query: 'butterfly.png?scale=2&upscale', original: butterfly, enhanced: butterflyUp },
  { query: 'head.jpg?scale=4&type=face&as=metadata&upscale', original: head, enhanced: headUp.src },
  { query: 'woman.png?scale=4&format=webp&quality=85&upscale', original: woman, enhanced: womanUp },
  { query: 'monarch.jpg?upscale', original: monarch, enhanced: monarchUp },
]

async function describe(url: string): Promise<{ width: number, height: number, kb: number }> {
  const blob = await (await fetch(url)).blob()
  const bitmap = await createImageBitmap(blob)
  return { width: bitmap.width, height: bitmap.height, kb: Math.round(blob.size / 1024) }
}

function figure(url: string, label: string): HTMLElement {
  const el = document.createElement('figure')
  el.innerHTML = `<div class="frame"><img src="${url}" alt="${label}"></div><figcaption><strong>${label}</strong> <span>…</span></figcaption>`
  return el
}

const gallery = document.querySelector('#gallery')!
for (const pair of pairs) {
  const section = document.createElement('section')
  section.className = 'pair'
  section.innerHTML = `<h2>${pair.query}</h2><div class="sides"></div>`
  const before = figure(pair.original, 'original')
  const after = figure(pair.enhanced, 'enhanced')
  section.querySelector('.sides')!.append(before, after)
  gallery.append(section)

  Promise.all([describe(pair.original), describe(pair.enhanced)]).then(([a, b]) => {
    section.style.setProperty('--ratio', `${a.width} / ${a.height}`)
    before.querySelector('span')!.textContent = `${a.width}×${a.height} · ${a.kb} KB`
    after.querySelector('span')!.textContent = `${b.width}×${b.height} · ${b.kb} KB · ${b.width / a.width}×`
    for (const img of section.querySelectorAll('img'))
      img.dataset.natural = `${img === before.querySelector('img') ? a.width : b.width}`
    section.style.setProperty('--zoom', '2')
  })
}
