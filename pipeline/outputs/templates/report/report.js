(function(){
'use strict';
var table=document.getElementById('calls-table');
var selects=[].slice.call(document.querySelectorAll('select[data-filter]'));
function matches(row){
  for(var i=0;i<selects.length;i++){
    var key=selects[i].getAttribute('data-filter'),want=selects[i].value;
    if(!want)continue;
    var have=row.getAttribute('data-'+key)||'';
    if(key==='flags'){if(have.split(' ').indexOf(want)<0)return false;}
    else if(have!==want)return false;
  }
  return true;
}
function applyFilters(){
  var rows=table.tBodies[0].rows,shown=0;
  for(var i=0;i<rows.length;i++){
    var ok=matches(rows[i]);rows[i].hidden=!ok;if(ok)shown++;
    var sec=document.getElementById('call-'+rows[i].getAttribute('data-call-id'));
    if(sec)sec.hidden=!ok;
  }
  document.getElementById('shown-count').textContent=shown;
}
selects.forEach(function(s){s.addEventListener('change',applyFilters);});
document.getElementById('reset-filters').addEventListener('click',function(){selects.forEach(function(s){s.value='';});applyFilters();});
function sortBy(th){
  var col=+th.getAttribute('data-col'),asc=th.getAttribute('aria-sort')!=='ascending';
  [].forEach.call(th.parentNode.children,function(h){h.removeAttribute('aria-sort');});
  th.setAttribute('aria-sort',asc?'ascending':'descending');
  var body=table.tBodies[0],rows=[].slice.call(body.rows);
  function key(r){return r.cells[col].getAttribute('data-sort')||r.cells[col].textContent;}
  rows.sort(function(a,b){
    var x=key(a),y=key(b),nx=parseFloat(x),ny=parseFloat(y),c;
    if(!isNaN(nx)&&!isNaN(ny)&&String(nx)===x.trim()&&String(ny)===y.trim())c=nx-ny;else c=x.localeCompare(y,'zh-CN');
    return asc?c:-c;
  });
  rows.forEach(function(r){body.appendChild(r);});
}
[].forEach.call(table.tHead.rows[0].cells,function(th){th.addEventListener('click',function(){sortBy(th);});});
function play(audio){var p=audio.play();if(p&&p.catch)p.catch(function(){});}
// One recording at a time: starting a call's player pauses the others ('play' does not bubble).
document.addEventListener('play',function(e){
  [].forEach.call(document.querySelectorAll('audio'),function(au){if(au!==e.target&&!au.paused)au.pause();});
},true);
function seek(audio,t){
  if(audio.readyState>=1){audio.currentTime=t;play(audio);return;}
  // preload="none": nothing is loaded yet; play() starts loading, the seek waits for the metadata.
  audio.addEventListener('loadedmetadata',function once(){audio.removeEventListener('loadedmetadata',once);audio.currentTime=t;});
  audio.preload='auto';play(audio);
}
document.addEventListener('click',function(e){
  var a=e.target.closest('a.seek');
  if(a){e.preventDefault();var sec=a.closest('section.call'),au=sec&&sec.querySelector('audio');
    if(au)seek(au,parseFloat(a.getAttribute('data-t'))||0);return;}
  var f=e.target.closest('[data-set-filter]');
  if(f){selects.forEach(function(s){s.value=s.getAttribute('data-filter')===f.getAttribute('data-set-filter')?f.getAttribute('data-value'):'';});
    applyFilters();document.getElementById('calls-list').scrollIntoView();return;}
  var p=e.target.closest('button.print-one');
  if(p){var sec2=p.closest('section.call');sec2.classList.add('print-target');document.body.classList.add('print-one');
    window.print();document.body.classList.remove('print-one');sec2.classList.remove('print-target');}
});
[].forEach.call(document.querySelectorAll('section.call audio'),function(au){
  var lines=au.closest('section.call').querySelectorAll('li.utt[data-start]');
  au.addEventListener('timeupdate',function(){
    var t=au.currentTime;
    [].forEach.call(lines,function(li){li.classList.toggle('now',t>=+li.getAttribute('data-start')&&t<+li.getAttribute('data-end'));});
  });
});
})();
